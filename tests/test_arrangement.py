"""Arrangement: chord voicing, accents, transposition, and the MIDI file written from it."""

from __future__ import annotations

from fractions import Fraction as F

import mido

from livegen.abc import parse_chord_symbol, parse_tunes
from livegen.perform.arrangement import ArrangementSettings, PerformedNote, fit_range, voice_chord
from livegen.perform.midi_file import TICKS_PER_BEAT, performance_to_midi
from livegen.perform.render import perform

JIG = 'X:1\nT:Test Jig\nM:6/8\nL:1/8\nQ:3/8=100\nK:G\nD|"G"GAB "D7"ABc|"G"B3 G2:|\n'


def test_chords_are_close_voiced_above_a_bass_note():
    assert voice_chord(parse_chord_symbol("G")) == [43, 55, 59, 62]  # G2 bass; G3 B3 D4
    assert voice_chord(parse_chord_symbol("D7"), bass=False) == [62, 66, 69, 72]  # root position from D4
    assert voice_chord(parse_chord_symbol("D/f#"))[0] == 42  # the bass is the written bass note


def test_range_folds_by_octaves():
    assert fit_range(30, 36, 96) == 42 and fit_range(100, 36, 96) == 88 and fit_range(60, 36, 96) == 60


def test_a_tune_is_performed_with_repeats_chords_accents_and_its_tempo():
    performed = perform(parse_tunes(JIG)[0])
    melody = [note for note in performed.notes if note.channel == 0]
    chords = [note for note in performed.notes if note.channel == 1]
    # Pickup D, then two bars, all repeated: 1 + 6 + 2 notes, twice.
    assert [note.pitch for note in melody] == [62, 67, 69, 71, 69, 71, 72, 71, 67] * 2
    assert melody[1].start == F(1, 2) and melody[1].duration == F(1, 2)  # eighth notes are half a beat
    assert melody[1].velocity > melody[2].velocity  # the downbeat is accented
    assert melody[4].velocity > melody[5].velocity  # so is the second beat of 6/8
    assert performed.tempo_bpm == 150.0  # Q:3/8=100 is 150 quarter notes a minute
    assert performed.meter == (6, 8) and performed.title == "Test Jig"
    g_chord = [note for note in chords if note.start == F(1, 2)]
    assert sorted(note.pitch for note in g_chord) == [43, 55, 59, 62]
    assert all(note.duration == F(3, 2) for note in g_chord)  # held until the D7


def test_transpose_and_channels_are_settings():
    settings = ArrangementSettings(melody_channel=3, chord_channel=None, transpose=2)
    performed = perform(parse_tunes(JIG)[0], settings)
    assert {note.channel for note in performed.notes} == {3}
    assert performed.notes[0].pitch == 64


def test_midi_file_has_a_track_per_channel_and_note_offs_before_note_ons():
    notes = [PerformedNote(F(0), F(1), 0, 60, 90), PerformedNote(F(1), F(1), 0, 60, 90),
             PerformedNote(F(0), F(2), 1, 48, 60)]
    midi = performance_to_midi(notes, 100.0, "t", (3, 4))
    assert len(midi.tracks) == 3
    tempo = next(message for message in midi.tracks[0] if message.type == "set_tempo")
    assert round(mido.tempo2bpm(tempo.tempo)) == 100
    melody = [(message.type, message.time) for message in midi.tracks[1] if not message.is_meta]
    assert melody == [("note_on", 0), ("note_off", TICKS_PER_BEAT), ("note_on", 0), ("note_off", TICKS_PER_BEAT)]
