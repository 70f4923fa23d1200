"""The live session behind `livegen run`, split by responsibility: daemon (wiring the stages together and
supervising them), generation (the generation loop), scheduler (timing cues on the clock and waiting for the
playhead), options (what a session is asked to do) and status_line.

May import every realtime-side stage (model, compose, perform, realtime,
control). Never offline or cli, and never TensorFlow.
"""
