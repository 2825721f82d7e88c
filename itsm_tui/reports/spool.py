"""Rows parked in an anonymous temporary file as pickled chunks: a report reads (and measures)
every row once before it lays out the first page, with memory bounded by one chunk."""

from __future__ import annotations

import pickle


def dump(spool, chunk: list) -> None:
    pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)


def load(spool):
    """Every item dumped into ``spool`` (our own file, written just before), in order."""
    while True:
        try:
            yield from pickle.load(spool)
        except EOFError:
            return
