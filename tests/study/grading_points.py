"""The one helper the grading tests share: a graded point found by how its key point begins."""


def point(result, start: str):
    return next(p for p in result.points if p.point.startswith(start))
