//! The conformance checks (filled in by the conformance work).
