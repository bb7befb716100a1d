//! The queue from a connection's handles to its task.
//!
//! A tokio `mpsc` channel allocates a block of 32 slots when it is made,
//! about 4 KiB per connection here, held even by a connection that never
//! sends a command (most server connections). This queue allocates only
//! while commands wait, and gives back what a burst made it grow.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

/// Capacity an empty queue keeps: a burst larger than this is given back
/// once it has been taken, so an idle connection holds little.
const KEPT_CAPACITY: usize = 8;

/// A queue of `T` with many senders and one receiver, the connection task.
pub(super) struct Commands<T> {
    state: Mutex<State<T>>,
    /// Whether the queue may hold something: the task looks for commands
    /// after every call it answers, and most of the time there are none,
    /// which this tells without the lock.
    maybe_queued: AtomicBool,
}

struct State<T> {
    queue: VecDeque<T>,
    /// The receiver's waker while it waits.
    waker: Option<Waker>,
    /// Set when the receiver is gone: nothing more is accepted.
    closed: bool,
}

impl<T> Commands<T> {
    pub(super) fn new() -> Commands<T> {
        Commands {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                waker: None,
                closed: false,
            }),
            maybe_queued: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // A panic while the lock is held leaves the queue consistent: every
        // step under it is a single push, pop or flag.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `command`, or gives it back if the receiver is gone. The
    /// caller drops a refused command outside the lock: dropping one may
    /// drop handles that send here themselves.
    pub(super) fn send(&self, command: T) -> Result<(), T> {
        let waker = {
            let mut state = self.lock();
            if state.closed {
                return Err(command);
            }
            state.queue.push_back(command);
            self.maybe_queued.store(true, Ordering::Release);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// The next command, if one is queued.
    pub(super) fn try_recv(&self) -> Option<T> {
        // A send that races with this is seen by the next look, or by
        // `poll_recv`, which looks under the lock before it waits.
        if !self.maybe_queued.load(Ordering::Acquire) {
            return None;
        }
        let mut state = self.lock();
        let command = state.queue.pop_front();
        if state.queue.is_empty() {
            self.maybe_queued.store(false, Ordering::Release);
            if state.queue.capacity() > KEPT_CAPACITY {
                state.queue.shrink_to(KEPT_CAPACITY);
            }
        }
        command
    }

    /// The next command, or `Pending` with the waker kept for the next send.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<T> {
        if let Some(command) = self.try_recv() {
            return Poll::Ready(command);
        }
        let mut state = self.lock();
        // A send may have come between the two looks.
        if let Some(command) = state.queue.pop_front() {
            if state.queue.is_empty() {
                self.maybe_queued.store(false, Ordering::Release);
            }
            return Poll::Ready(command);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Refuses every later send, and returns what was queued, for the
    /// caller to drop outside the lock.
    pub(super) fn close(&self) -> VecDeque<T> {
        let mut state = self.lock();
        state.closed = true;
        state.waker = None;
        self.maybe_queued.store(false, Ordering::Release);
        std::mem::take(&mut state.queue)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn in_order_with_one_wake_per_wait() {
        let commands = Commands::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(commands.poll_recv(&mut cx).is_pending());
        commands.send(1).unwrap();
        commands.send(2).unwrap();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "woken once, by the first send"
        );
        assert_eq!(commands.poll_recv(&mut cx), Poll::Ready(1));
        assert_eq!(commands.try_recv(), Some(2));
        assert_eq!(commands.try_recv(), None);
    }

    #[test]
    fn a_burst_is_given_back() {
        let commands = Commands::new();
        for i in 0..1000 {
            commands.send(i).unwrap();
        }
        while commands.try_recv().is_some() {}
        assert!(commands.lock().queue.capacity() <= KEPT_CAPACITY);
    }

    #[test]
    fn closed_refuses_and_hands_back() {
        let commands = Commands::new();
        commands.send("queued").unwrap();
        assert_eq!(commands.close(), ["queued"]);
        assert_eq!(commands.send("late"), Err("late"));
        assert_eq!(commands.try_recv(), None);
    }
}
