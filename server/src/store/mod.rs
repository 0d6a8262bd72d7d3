//! voc's SQLite store (work in progress).
