"""Offline work: many tunes at once (`generate`), their files (tune_files, also for `render`), the musical
report on them (`eval`), and where the corpus is found by default (default_corpus).

May import model, compose, perform and livegen.abc. Never realtime or session,
and never TensorFlow (training and export live in livegen.export).
"""
