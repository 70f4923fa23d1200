"""The offline half: corpus, Keras training and ONNX export (installed as livegen.export).

This is the only package that imports TensorFlow, Keras or tf2onnx. It needs
the training extra: pip install -e '.[train]'.
"""

import os

# TensorFlow's start-up chatter (oneDNN notices, CUDA probing) is noise for a
# musician training on a laptop; real errors still come through.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
