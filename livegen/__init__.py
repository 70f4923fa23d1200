"""livegen: a character-level LSTM that writes folk tunes in ABC and plays them live as MIDI.

This package is the realtime half. It needs numpy, onnxruntime, mido,
python-rtmidi and python-osc only, and never imports TensorFlow.
"""

__version__ = "0.1.0"
