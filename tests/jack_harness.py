"""Fixtures for a private JACK server and a MIDI reader on it (to be written)."""
