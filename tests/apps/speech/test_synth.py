"""The built-in keyword set: which voices it finds, and when its cached copy is remade."""

import json

from apps.speech import synth


def test_festival_voices_are_found_in_its_english_and_us_folders(tmp_path, monkeypatch):
    for folder in ("english/kal_diphone", "us/cmu_us_slt_arctic_hts", "italian/pc_diphone"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.setattr(synth, "FESTIVAL_ROOTS", (tmp_path, tmp_path / "missing"))
    assert synth.engine_voices("festival") == ["cmu_us_slt_arctic_hts", "kal_diphone"]


def test_builtin_keywords_are_remade_when_a_voice_is_installed(tmp_path, monkeypatch):
    voices, made = ["kal_diphone"], []

    def fake_synthesize(words, out, **options):
        out.mkdir(parents=True)
        (out / "synth.json").write_text(json.dumps({"words": words}))
        made.append(out)
        return out

    monkeypatch.setenv("SEQCORE_CACHE", str(tmp_path))
    monkeypatch.setattr(synth, "installed_engines", lambda: ["festival"])
    monkeypatch.setattr(synth, "engine_voices", lambda engine: list(voices))
    monkeypatch.setattr(synth, "synthesize", fake_synthesize)
    first = synth.builtin_keywords(["yes"])
    assert synth.builtin_keywords(["yes"]) == first and len(made) == 1  # cached
    voices.append("cmu_us_slt_arctic_hts")
    assert synth.builtin_keywords(["yes"]) != first and len(made) == 2


def test_full_grid_speaks_each_speed_once_where_the_engine_sets_no_pitch(monkeypatch):
    monkeypatch.setattr(synth, "_binary", lambda engine: f"/usr/bin/{engine}")
    monkeypatch.setattr(synth, "engine_voices", lambda engine: ["v"])
    grid = synth.plan(["yes"], engines=["flite", "festival"], speeds=(130, 220), pitches=(30, 70), full_grid=True)
    settings = {engine: [(job["speed"], job["pitch"]) for job in grid if job["engine"] == engine]
                for engine in ("flite", "festival")}
    assert settings == {"flite": [(130, 30), (130, 70), (220, 30), (220, 70)],
                        "festival": [(130, None), (220, None)]}
