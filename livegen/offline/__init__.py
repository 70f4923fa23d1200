"""Offline work: many tunes at once (`generate`) and the musical report on them (`eval`).

May import model, compose, perform and livegen.abc. Never realtime or session,
and never TensorFlow (training and export live in livegen.export).
"""
