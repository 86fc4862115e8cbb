//! `given(events).when(command).then(events)`: the form every decider test takes, here and in
//! the hosts' tests.
#![allow(clippy::panic)] // An assertion helper: failing loudly is its job.

use crate::command::Command;
use crate::decider::{State, decide, evolve};
use crate::error::{DomainError, ErrorCode};
use crate::event::Event;

pub struct Given {
    state: State,
}

pub fn given(events: impl IntoIterator<Item = Event>) -> Given {
    Given {
        state: events
            .into_iter()
            .fold(State::default(), |state, e| evolve(state, &e)),
    }
}

pub struct When {
    state: State,
    result: Result<Vec<Event>, DomainError>,
}

impl Given {
    pub fn when(self, command: Command) -> When {
        let result = decide(&command, &self.state);
        When {
            state: self.state,
            result,
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }
}

impl When {
    /// Asserts the decided events and returns the state after them.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = Event>) -> State {
        let expected: Vec<Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "decided events differ");
                events.iter().fold(self.state, evolve)
            }
            Err(error) => panic!("expected events {expected:#?}, got error {error}"),
        }
    }

    /// Asserts that the command was refused with `code` and returns the error.
    #[track_caller]
    pub fn then_error(self, code: ErrorCode) -> DomainError {
        match self.result {
            Ok(events) => panic!("expected error {code}, got events {events:#?}"),
            Err(error) => {
                assert_eq!(error.code, code, "unexpected error: {error}");
                error
            }
        }
    }

    /// The decided events, whatever they are, for assertions on parts of them.
    #[track_caller]
    pub fn events(self) -> Vec<Event> {
        match self.result {
            Ok(events) => events,
            Err(error) => panic!("expected events, got error {error}"),
        }
    }
}
