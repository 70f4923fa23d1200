"""The sampler: temperature, top-p, masks and seeded reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from livegen.compose.sampler import Sampler, SamplingSettings
from livegen.errors import LivegenError

LOGITS = np.log(np.array([[0.5, 0.25, 0.15, 0.1]]))


def test_temperature_one_samples_the_model_distribution():
    np.testing.assert_allclose(Sampler().probabilities(LOGITS), [[0.5, 0.25, 0.15, 0.1]])


def test_low_temperature_sharpens_and_high_temperature_flattens():
    cold = Sampler(SamplingSettings(temperature=0.25)).probabilities(LOGITS)[0]
    hot = Sampler(SamplingSettings(temperature=3.0)).probabilities(LOGITS)[0]
    assert cold[0] > 0.9 and hot[0] < 0.4
    assert hot.max() - hot.min() < 0.2


def test_top_p_keeps_the_smallest_set_reaching_p():
    probabilities = Sampler(SamplingSettings(top_p=0.7)).probabilities(LOGITS)[0]
    np.testing.assert_allclose(probabilities, [0.5 / 0.75, 0.25 / 0.75, 0, 0])


def test_draws_follow_the_distribution():
    sampler = Sampler(seed=7)
    counts = np.bincount([sampler.draw(LOGITS[0], lambda index: True) for _ in range(4000)], minlength=4) / 4000
    np.testing.assert_allclose(counts, [0.5, 0.25, 0.15, 0.1], atol=0.03)


def test_the_same_seed_gives_the_same_draws_and_another_seed_does_not():
    def draws(seed):
        sampler = Sampler(seed=seed)
        return [sampler.draw(LOGITS[0], lambda index: True) for _ in range(16)]

    assert draws(11) == draws(11)
    assert draws(12) != draws(11) or draws(13) != draws(11)


@pytest.mark.parametrize("settings", [{"temperature": 0.01}, {"temperature": 3.5}, {"top_p": 0}, {"top_p": 1.5}])
def test_out_of_range_settings_are_clear_errors(settings):
    with pytest.raises(LivegenError):
        SamplingSettings(**settings)


def test_draw_under_a_mask_samples_the_masked_distribution():
    sampler = Sampler(seed=5)
    allowed = {1, 2, 3}
    draws = [sampler.draw(LOGITS[0], allowed.__contains__) for _ in range(4000)]
    counts = np.bincount(draws, minlength=4) / 4000
    np.testing.assert_allclose(counts, [0, 0.25 / 0.5, 0.15 / 0.5, 0.1 / 0.5], atol=0.03)


def test_draw_asks_the_mask_only_about_what_it_draws():
    asked = []
    Sampler(seed=1).draw(LOGITS[0], lambda index: asked.append(index) or True)
    assert len(asked) == 1


def test_draw_goes_past_the_nucleus_when_nothing_in_it_is_allowed_and_gives_up_on_nothing():
    sampler = Sampler(SamplingSettings(top_p=0.5), seed=2)  # the nucleus is character 0 alone
    assert {sampler.draw(LOGITS[0], lambda index: index != 0) for _ in range(100)} == {1, 2, 3}
    assert sampler.draw(LOGITS[0], lambda index: False) is None


def test_the_composer_asks_the_sampler_and_follows_the_models_logits(model_vocabulary):
    """The path `run` and `generate` take: TuneComposer.next_character -> Sampler.draw under the constraints."""
    from livegen.compose.composer import TuneComposer, TunePlan

    composer = TuneComposer(TunePlan(meter="4/4", key="G", form="free"), model_vocabulary)
    sampler = Sampler(seed=9)
    while composer.forced_character() is not None or not composer.parser.state.in_tune:
        composer.accept(composer.next_character(sampler, None))
    for character in "Lass\n":  # the title, then the forced header
        composer.accept(character)
    while composer.forced_character() is not None:
        composer.accept(composer.next_character(sampler, None))
    logits = np.full(len(model_vocabulary), -30.0)
    for character, logit in (("G", 0.0), ("A", np.log(0.5)), ("#", 2.0), ("+", 2.0)):
        logits[model_vocabulary.id_of(character)] = logit
    draws = [composer.next_character(sampler, logits) for _ in range(600)]
    assert set(draws) == {"G", "A"}  # "#" and "+" are likelier but abc2midi cannot read them
    assert draws.count("G") / len(draws) == pytest.approx(2 / 3, abs=0.06)


@pytest.fixture(scope="module")
def model_vocabulary():
    from livegen.model.model_file import load_model

    return load_model().vocabulary
