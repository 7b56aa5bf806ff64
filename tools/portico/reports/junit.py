"""JUnit XML (junitparser): a testsuite per command, a testcase per case, a failure per finding."""

from __future__ import annotations

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from portico.results import ERROR, SKIPPED, Report

MESSAGE_CHARS = 1000


def render(report: Report) -> str:
    suite = TestSuite(report.suite)
    testcases = []
    for case in report.cases:
        tc = TestCase(case.name, classname=f"{report.suite}.{report.title}", time=round(case.seconds, 3))
        results = []
        for f in case.findings:
            failure = Failure(f.headline()[:MESSAGE_CHARS], type_=f"{f.stage}:{f.rule}")
            failure.text = f"{f.message}\nfix: {f.hint}" if f.hint else f.message
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
        testcases.append(tc)
    suite.add_testcases(testcases)  # one statistics pass; add_testcase recounts every time (quadratic)
    for key, value in report.summary.items():
        if isinstance(value, (str, int, float, bool)):
            suite.add_property(key, str(value))
    xml = JUnitXml()
    xml.add_testsuite(suite)
    xml.update_statistics()
    suite.time = xml.time = round(report.seconds, 3)  # wall time, not the sum of the cases' times
    text = xml.tostring()
    return text.decode() if isinstance(text, bytes) else text
