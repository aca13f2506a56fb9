"""Files pipectl writes (exports, rejects, backups): private, created exclusively, renamed into place.

A shared folder (/tmp, a team share) may hold a file someone else planted
where pipectl is about to write, a `.partial` name or a symlink: every file is
created with O_CREAT|O_EXCL|O_NOFOLLOW, so a file already there is refused,
never written through. It is owner-only (0600) whatever the umask, because
exports, rejects and backups hold the same personal data as the database. It
is written beside the target and renamed over it only once complete, so a
failed write (a full disk, a bad filter) leaves the old file and no partial
behind. And no output may be the database or one of SQLite's files beside it.
"""

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from pipectl.errors import PipectlError, UsageError

PARTIAL = ".partial"
# SQLite's own files beside a database, and the note of the command holding its write lock.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal", "-writer")
NAME_MAX = 255  # bytes in one file name on every common file system
PRIVATE = 0o600
# O_EXCL refuses any file already there, a symlink included; O_NOFOLLOW says so twice.
EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class FileProblem(PipectlError):
    """A file cannot be read or written as asked (exit 1)."""


def database_files(database: Path | None) -> list[tuple[Path, str]]:
    """The database and the files SQLite keeps beside it (under its given and its real name), each
    with what it is: the files no output may replace."""
    if database is None:
        return []
    files = []
    for name in {database, Path(os.path.realpath(database))}:
        files.append((name, "the database itself"))
        files += [(Path(f"{name}{suffix}"), "a file SQLite keeps beside the database") for suffix in SIDE_SUFFIXES]
    return files


def check_output(
    target: str | os.PathLike, *, what: str, option: str, protected: Iterable[tuple[Path, str]] = ()
) -> Path:
    """The path to write `what` (given with `option`) at, or a usage error saying why it cannot be.

    `protected`: (file, what it is) pairs that must survive, the database and the files beside it,
    the file being read.
    """
    text = os.fspath(target)
    try:
        return _checked(text, what, option, list(protected))
    except OSError as error:  # a folder name too long, a folder that cannot be searched
        raise _refusal(text, what, option, error.strerror or str(error)) from None


def _checked(text: str, what: str, option: str, protected: list[tuple[Path, str]]) -> Path:
    def refuse(reason: str) -> UsageError:
        return _refusal(text, what, option, reason)

    if not text.strip():
        raise UsageError(f"Cannot write {what}: {option} needs a file name.")
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise refuse("the name holds a control character")
    path = Path(text).expanduser()
    if path.name in ("", ".", "..") or text.endswith(os.sep) or path.is_dir():
        raise refuse("it is a folder")
    if len(os.fsencode(path.name + PARTIAL)) > NAME_MAX:
        raise refuse(f"the name is longer than {NAME_MAX - len(PARTIAL)} bytes")
    if not path.parent.is_dir():
        raise refuse(f"{str(path.parent)!r} is not a folder")
    if path.is_symlink() or path.exists():
        mode = path.lstat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise refuse("it is not a regular file (- writes to stdout)")
    for kept, label in protected:
        if _same_file(path, kept) or _same_file(partial_of(path), kept):
            raise refuse(f"pipectl cannot overwrite {label} ({kept})")
    return path


def _refusal(text: str, what: str, option: str, reason: str) -> UsageError:
    shown = repr(text) if len(text) <= 80 else repr(text[:60]) + "…"
    where = f"another with {option} FILE" if option.startswith("-") else f"another {option}"
    return UsageError(f"Cannot write {what} {shown}: {reason}; choose {where}.")


def partial_of(target: Path) -> Path:
    return target.with_name(target.name + PARTIAL)


class Replacement:
    """`target`.partial, created exclusively and private; `commit` moves it over `target`, `discard`
    removes it. An OSError on the way becomes a FileProblem naming the target."""

    def __init__(self, target: Path, *, overwrite: bool = True):
        self.target, self.partial, self.overwrite = target, partial_of(target), overwrite
        self.descriptor: int | None = _create_exclusive(self.partial, target)
        self._file: IO | None = None

    def open(self, *, binary: bool = False, errors: str = "strict") -> IO:
        assert self.descriptor is not None, "opened once, before finish or discard"
        if binary:
            self._file = open(self.descriptor, "wb", closefd=False)  # noqa: SIM115 (finish/discard close it)
        else:
            self._file = open(  # noqa: SIM115 (finish/discard close it)
                self.descriptor,
                "w",
                encoding="utf-8",
                newline="",
                errors=errors,
                closefd=False,
            )
        return self._file

    def finish(self) -> None:
        """Everything written on disk (a full disk shows here), still under the partial's name."""
        if self.descriptor is None:
            return
        try:
            if self._file is not None:
                self._file.close()
            os.fsync(self.descriptor)
            self._close()
        except OSError as error:
            self.discard()
            raise write_failure(self.target, error) from None

    def commit(self) -> None:
        self.finish()
        try:
            _move_into_place(self.partial, self.target, self.overwrite)
        except OSError as error:
            self.discard()
            raise write_failure(self.target, error) from None
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        if self._file is not None:
            with suppress(OSError):  # the disk is full: the buffered rest is dropped with the file
                self._file.close()
        self._close()
        self.partial.unlink(missing_ok=True)

    def _close(self) -> None:
        self._file = None
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


@contextmanager
def replacing(target: Path, *, overwrite: bool = True, binary: bool = False) -> Iterator[IO]:
    """A private file open for writing that takes `target`'s place when the block ends without error."""
    with _replacement(target, overwrite) as replacement:
        yield replacement.open(binary=binary)


@contextmanager
def reserved(target: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """The partial's path, for a writer that opens files by name (SQLite's backup), moved into place after."""
    with _replacement(target, overwrite) as replacement:
        yield replacement.partial


@contextmanager
def _replacement(target: Path, overwrite: bool) -> Iterator[Replacement]:
    replacement = Replacement(target, overwrite=overwrite)
    try:
        yield replacement
    except OSError as error:
        replacement.discard()
        if isinstance(error, BrokenPipeError):
            raise
        raise write_failure(target, error) from None
    except BaseException:
        replacement.discard()
        raise
    replacement.commit()


def write_failure(target: Path, error: OSError) -> FileProblem:
    """An OSError while writing `target` in words a person can act on."""
    reason = error.strerror or str(error)
    hint = {
        errno.ENOSPC: " (the disk is full; free some space or write to another disk)",
        errno.EDQUOT: " (the disk quota is used up)",
        errno.EACCES: " (choose a folder you may write to)",
        errno.EROFS: " (the disk is read-only)",
    }.get(error.errno or 0, "")
    return FileProblem(f"Cannot write {target}: {reason}{hint}; nothing was written there.")


def read_failure(source: str | os.PathLike, error: OSError) -> FileProblem:
    return FileProblem(f"Cannot read {os.fspath(source)}: {error.strerror or error}.")


def _create_exclusive(partial: Path, target: Path) -> int:
    try:
        descriptor = os.open(partial, EXCLUSIVE, PRIVATE)
    except FileExistsError:
        raise FileProblem(
            f"{partial} already exists: another pipectl may be writing {target.name}, one was interrupted, "
            "or someone else put it there. pipectl never writes through a file it did not create: check it, "
            "remove it, and try again."
        ) from None
    except OSError as error:
        raise write_failure(target, error) from None
    try:
        # The umask may have taken bits away (0400) or, on some systems, not applied: exactly 0600.
        os.fchmod(descriptor, PRIVATE)
    except OSError:
        os.close(descriptor)
        partial.unlink(missing_ok=True)
        raise
    return descriptor


def _move_into_place(partial: Path, target: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(partial, target)
        return
    # A hard link fails if the target appeared meanwhile: never replace a file the user did not offer.
    try:
        os.link(partial, target)
    except FileExistsError:
        raise FileProblem(f"{target} exists; choose another file or add --force to replace it.") from None
    partial.unlink()


def _same_file(path: Path, other: Path) -> bool:
    if os.path.realpath(path) == os.path.realpath(other):
        return True
    try:
        return os.path.samefile(path, other)  # a hard link to the database is the database
    except OSError:
        return False
