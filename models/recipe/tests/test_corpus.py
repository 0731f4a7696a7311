from emomix.corpus import WEAK_INTENSITY, plan
from emomix.profiles import EMOTIONS

TRAIN = [f"Training sentence number {i}." for i in range(40)]
HELD = [f"Held-out sentence number {i}." for i in range(3)]


def test_weak_utterances_come_after_an_unchanged_plan():
    base = plan(TRAIN, HELD, seed=1)
    more = plan(TRAIN, HELD, seed=1, weak=12)
    # The usual utterances keep their draws, so an existing corpus resumes, not re-renders.
    assert more[:len(base)] == base
    weak = more[len(base):]
    assert [w["id"] for w in weak] == [f"tw{i:05d}" for i in range(12)]
    assert all(w["split"] == "train" and w["text"] == TRAIN[i] for i, w in enumerate(weak))
    # Balanced over the four emotions that have a way from neutral to go.
    assert sorted(w["emotion"] for w in weak) == sorted(list(EMOTIONS[1:]) * 3)
    assert all(WEAK_INTENSITY[0] <= w["params"]["intensity"] < WEAK_INTENSITY[1] for w in weak)
    # Typical training utterances never fall in the weak range (train-ser's centroids rely on it).
    assert all(b["params"]["intensity"] >= WEAK_INTENSITY[1] for b in base if b["split"] == "train")


def test_weak_utterances_sit_between_neutral_and_their_emotion():
    weak = plan(TRAIN, HELD, seed=1, weak=40)[len(TRAIN) + 5 * len(HELD):]
    for w in weak:
        if w["emotion"] == "surprise":
            # The surprise profile raises pitch by 550 cents; a weak draw raises it less (jitter aside).
            assert w["params"]["pitch_cents"] < 550 * WEAK_INTENSITY[1] + 150
