"""The live session behind `livegen run`: wiring the stages together, the generation loop, scheduling, and the status line.

May import every realtime-side stage (model, compose, perform, realtime,
control). Never offline or cli, and never TensorFlow.
"""
