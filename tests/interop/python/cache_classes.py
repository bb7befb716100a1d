"""The pb.Cacheable howto's cache_classes.py, ported to Python 3 / Twisted 26.10.

MasterDuckPond (a pb.Cacheable, on the sending side) and SlaveDuckPond (its
pb.RemoteCache, on the receiving side), bound together by
setUnjellyableForClass when this module is imported.  Used by cache_sender.py
and cache_receiver.py; on the wire the sent class is
cache_classes.MasterDuckPond.

One addition to the howto: MasterDuckPond.stoppedObserving prints
"stoppedObserving", so that the sender shows when the receiver dropped its
cache.  Every line printed is flushed (readers use a pipe).
"""

from twisted.spread import pb


class MasterDuckPond(pb.Cacheable):
    def __init__(self, ducks):
        self.observers = []
        self.ducks = ducks

    def count(self):
        print("I have [%d] ducks" % len(self.ducks), flush=True)

    def addDuck(self, duck):
        self.ducks.append(duck)
        for o in self.observers:
            o.callRemote("addDuck", duck)

    def removeDuck(self, duck):
        self.ducks.remove(duck)
        for o in self.observers:
            o.callRemote("removeDuck", duck)

    def getStateToCacheAndObserveFor(self, perspective, observer):
        self.observers.append(observer)
        # you should ignore pb.Cacheable-specific state, like self.observers
        return self.ducks  # in this case, just a list of ducks

    def stoppedObserving(self, perspective, observer):
        # Not in the howto: shows that the remote cache went away.
        print("stoppedObserving", flush=True)
        # `observer` is a new RemoteCacheObserver, equal to the one given to
        # getStateToCacheAndObserveFor (same broker, cacheable, perspective).
        self.observers.remove(observer)


class SlaveDuckPond(pb.RemoteCache):
    # This is a cache of a remote MasterDuckPond
    def count(self):
        return len(self.cacheducks)

    def getDucks(self):
        return self.cacheducks

    def setCopyableState(self, state):
        print(" cache - sitting, er, setting ducks", flush=True)
        self.cacheducks = state

    def observe_addDuck(self, newDuck):
        print(" cache - addDuck", flush=True)
        self.cacheducks.append(newDuck)

    def observe_removeDuck(self, deadDuck):
        print(" cache - removeDuck", flush=True)
        self.cacheducks.remove(deadDuck)


pb.setUnjellyableForClass(MasterDuckPond, SlaveDuckPond)
