"""Realtime: clocks, the output thread, MIDI ports and backends, and the session recorder.

May import: livegen.perform, livegen.errors, mido and python-rtmidi. Never
offline, session, cli or TensorFlow: this is the code on the live path.
"""
