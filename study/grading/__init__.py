from study.grading.grader import GradeResult, PointResult, grade  # noqa: F401
