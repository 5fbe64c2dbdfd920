//! AI backends. The embedded default is offline and deterministic (`offline`): it needs no
//! account and no model download, and gives the same answer for the same input, which keeps
//! tests exact. An OpenAI-compatible backend will stand behind the same ports.

pub mod offline;
