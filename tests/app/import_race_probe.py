"""Run by test_import_race in a fresh interpreter: one thread imports pandas, as Streamlit does
on a session's first dataframe or chart, while others build plotly figures at the same moment.
Prints the number of threads that failed. `fixed` takes plotly from ui.charts; `raw` imports it
directly, as the pages did before."""

import sys
import threading

mode, threads = sys.argv[1], 8
barrier = threading.Barrier(threads)
failures = []


def import_pandas() -> None:
    barrier.wait()
    import pandas  # noqa: F401


def draw() -> None:
    if mode == "fixed":
        from ui.charts import plotly_go

        barrier.wait()
        go = plotly_go()
    else:
        import plotly.graph_objects as go

        barrier.wait()
    try:
        for _ in range(50):
            go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))
    except Exception as error:  # the race shows as AttributeError on a partial pandas
        failures.append(repr(error))


workers = [threading.Thread(target=import_pandas)] + [threading.Thread(target=draw) for _ in range(threads - 1)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print(len(failures), failures[:1])
