"""Performing: parsed ABC events become timed notes (arrangement, the live player, render, MIDI files, piano roll).

May import: livegen.abc, livegen.errors (and matplotlib, lazily, for the piano
roll). Never the model, the composer or anything realtime.
"""
