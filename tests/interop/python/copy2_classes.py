"""The pb.Copyable howto's copy2_classes.py, ported to Python 3 / Twisted 26.10.

The sender's class SenderPond (a pb.Copyable) and the receiver's class
ReceiverPond (a pb.RemoteCopy), bound together by setUnjellyableForClass when
this module is imported.  SenderPond sends a reduced state: instead of
numFrogs and numToads, their sum, frogsAndToads.  Used by copy2_sender.py
and copy2_receiver.py; on the wire the sent class is
copy2_classes.SenderPond.
"""

from twisted.spread import pb


class FrogPond:
    def __init__(self, numFrogs, numToads):
        self.numFrogs = numFrogs
        self.numToads = numToads

    def count(self):
        return self.numFrogs + self.numToads


class SenderPond(FrogPond, pb.Copyable):
    def getStateToCopy(self):
        d = self.__dict__.copy()
        d["frogsAndToads"] = d["numFrogs"] + d["numToads"]
        del d["numFrogs"]
        del d["numToads"]
        return d


class ReceiverPond(pb.RemoteCopy):
    def setCopyableState(self, state):
        self.__dict__ = state

    def count(self):
        return self.frogsAndToads


pb.setUnjellyableForClass(SenderPond, ReceiverPond)
