//! The drill engine (being built).
