"""The `livegen` command: argument parsing and dispatch to the stage that does the work.

May import any stage; imports livegen.export (TensorFlow) only inside the
`train` and `export` verbs, so that `livegen run` never loads it.
"""
