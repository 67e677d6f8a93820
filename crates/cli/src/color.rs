//! Colour on a terminal only: off with `--no-color`, with `NO_COLOR` set, or when stdout is
//! not a terminal.

use std::fmt;
use std::io::IsTerminal;

use crate::args::OutputArgs;

/// The colours the output uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// Requests, addresses.
    Cyan,
    /// Successful responses.
    Green,
    /// Redirects, retransmissions.
    Yellow,
    /// Errors, resets.
    Red,
    /// Headers, secondary text.
    Dim,
    /// Emphasis.
    Bold,
}

impl Color {
    fn code(self) -> &'static str {
        match self {
            Color::Cyan => "36",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Red => "31",
            Color::Dim => "2",
            Color::Bold => "1",
        }
    }
}

/// Whether to colour, decided once per run.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    /// Decides from the options, `NO_COLOR` and whether stdout is a terminal.
    pub fn new(output: &OutputArgs) -> Palette {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Palette {
            enabled: !output.no_color
                && !output.json
                && !no_color_env
                && std::io::stdout().is_terminal(),
        }
    }

    /// Whether this palette colours.
    pub fn is_enabled(self) -> bool {
        self.enabled
    }

    /// A palette that never colours.
    pub fn plain() -> Palette {
        Palette { enabled: false }
    }

    /// `text` in `color` when colouring, as is otherwise.
    pub fn paint<T: fmt::Display>(self, color: Color, text: T) -> Painted<T> {
        Painted {
            color: self.enabled.then_some(color),
            text,
        }
    }
}

/// A value displayed with an optional colour.
#[derive(Debug)]
pub struct Painted<T> {
    color: Option<Color>,
    text: T,
}

impl<T: fmt::Display> fmt::Display for Painted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.color {
            Some(c) => write!(f, "\x1b[{}m{}\x1b[0m", c.code(), self.text),
            None => self.text.fmt(f),
        }
    }
}
