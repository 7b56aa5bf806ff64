"""The one wait/retry helper, on tenacity: poll until true, or retry until it works, always bounded."""

from __future__ import annotations

from typing import Callable, TypeVar

import tenacity

from portico.errors import ToolError

T = TypeVar("T")


def until(check: Callable[[], T], *, timeout: float, interval: float = 1.0, what: str,
          detail: Callable[[], str] | None = None) -> T:
    """Call `check` until it returns something truthy and return that; ToolError after `timeout` seconds.

    Exceptions from `check` count as "not yet" (the last one is named in the error).
    """
    last_error: list[BaseException] = []

    def attempt() -> T:
        try:
            return check()
        except Exception as exc:  # noqa: BLE001 - "not yet", named if it is still failing at the end
            last_error[:] = [exc]
            return None  # type: ignore[return-value]

    retrying = tenacity.Retrying(stop=tenacity.stop_after_delay(timeout), wait=tenacity.wait_fixed(interval),
                                 retry=tenacity.retry_if_result(lambda value: not value))
    try:
        return retrying(attempt)
    except tenacity.RetryError:
        pass
    why = f": {last_error[0]}" if last_error else ""
    extra = f"\n{detail()}" if detail else ""
    raise ToolError(f"{what} after {timeout:.0f}s{why}{extra}")


def retry(call: Callable[[], T], *, attempts: int, delay: float = 1.0, what: str,
          on: tuple[type[BaseException], ...] = (Exception,),
          when: Callable[[BaseException], bool] | None = None) -> T:
    """`call()` up to `attempts` times, `delay` seconds apart, while it raises one of `on` (for which `when`,
    if given, is true; any other error is raised as it is, at once)."""
    def retryable(exc: BaseException) -> bool:
        return isinstance(exc, on) and (when is None or when(exc))

    try:
        return tenacity.Retrying(stop=tenacity.stop_after_attempt(attempts), wait=tenacity.wait_fixed(delay),
                                 retry=tenacity.retry_if_exception(retryable), reraise=True)(call)
    except on as exc:
        if not retryable(exc):
            raise
        raise ToolError(f"{what}: still failing after {attempts} attempts: {exc}") from exc
