//! spread-security's integration tests, one binary.

// What is refused, and that refusing builds nothing.
mod refusals;

// What registered classes become, and what their bad states give.
mod registry;

// The sending side: objects without a copy rule fail at the sender.
mod sending;
