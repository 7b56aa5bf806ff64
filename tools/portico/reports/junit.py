"""JUnit XML (junitparser): a testsuite per command, a testcase per case, a failure per finding."""

from __future__ import annotations

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from portico.results import ERROR, SKIPPED, Report

MESSAGE_CHARS = 1000


def _testcase(report: Report, case, classname: str) -> TestCase:
    tc = TestCase(case.name, classname=classname, time=round(case.seconds, 3))
    results = []
    if case.findings:
        # One failure per failed case, every finding in its text: CI systems count failed cases by these
        # elements, and a case with 13 findings is one failed case, not 13.
        first = case.findings[0]
        more = f" (and {len(case.findings) - 1} more)" if len(case.findings) > 1 else ""
        failure = Failure((first.headline()[:MESSAGE_CHARS] + more), type_=f"{first.stage}:{first.rule}")
        failure.text = "\n\n".join(f"{f.stage}:{f.rule}: {f.headline()}" + (f"\nfix: {f.hint}" if f.hint else "")
                                   for f in case.findings)
        results.append(failure)
    if case.status == ERROR and not results:
        results.append(Error(case.detail[:MESSAGE_CHARS] or "error"))
    elif case.status == SKIPPED:
        results.append(Skipped(case.detail[:MESSAGE_CHARS]))
    elif not case.passed and not results:
        failure = Failure(case.detail.splitlines()[0][:MESSAGE_CHARS] if case.detail else "failed")
        failure.text = case.detail
        results.append(failure)
    if results:
        tc.result = results
    if case.detail and case.passed:
        tc.system_out = case.detail
    return tc


def render(report: Report) -> str:
    """One testsuite for the command, or one per `suite` property of the cases (`portico ci`: per chart)."""
    groups: dict[str, list] = {}
    for case in report.cases:
        groups.setdefault(str(case.properties.get("suite", "")), []).append(case)
    xml = JUnitXml()
    for group, cases in groups.items():
        name = f"{report.suite}.{group}" if group else report.suite
        suite = TestSuite(name)
        # one statistics pass; add_testcase recounts every time (quadratic)
        suite.add_testcases([_testcase(report, c, f"{report.suite}.{group or report.title}") for c in cases])
        if not group:
            for key, value in report.summary.items():
                if isinstance(value, (str, int, float, bool)):
                    suite.add_property(key, str(value))
            suite.time = round(report.seconds, 3)  # wall time, not the sum of the cases' times
        else:
            suite.time = round(sum(c.seconds for c in cases), 3)
        xml.add_testsuite(suite)
    if not groups:
        xml.add_testsuite(TestSuite(report.suite))
    xml.update_statistics()
    xml.time = round(report.seconds, 3)
    text = xml.tostring()
    return text.decode() if isinstance(text, bytes) else text
