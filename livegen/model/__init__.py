"""The model: the ONNX step-model contract, its vocabulary, the engine that steps it, and scoring.

May import: numpy, onnxruntime, livegen.errors. Nothing else of livegen: every
other stage builds on this one.
"""
