"""Harnesses for checking livegen against real parts: a private JACK server and a MIDI reader on it,
`livegen run` as a process, abc2midi as the reference reading of ABC, a local training cluster, hostile OSC.

Both tests/ and bench/ use them, so they live in the package rather than in
test files: bench scripts import them like any other livegen module, with no
tests/ folder on sys.path, and pytest needs no path setting. They are plain
classes and functions that fail with AssertionError; the pytest fixtures built
on them stay in tests/conftest.py, so nothing here imports pytest and the
installed package does not depend on it (as numpy.testing ships in numpy).

May import any livegen stage except livegen.export, plus mido and python-osc.
Nothing in livegen imports this package.
"""
