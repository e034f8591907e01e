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
