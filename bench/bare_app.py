"""The benchmarks' ceiling: a bare Flask app with no database or sign-in, served the same way as the intranet."""

from flask import Flask, Response

app = Flask(__name__)


@app.get("/poll")
def poll():
    """As small as a live region's poll answer (questions_bench)."""
    return "<ol></ol>"


@app.get("/hold/<int:n>")
def hold(n):
    """A stream held by Pushpin on channel ``bare:<n>`` (push_bench)."""
    return Response(
        "retry: 3000\n\n",
        mimetype="text/event-stream",
        headers={"Grip-Hold": "stream", "Grip-Channel": f"bare:{n}"},
    )


@app.get("/page")
def page():
    """A bare page (push_bench)."""
    return "<!doctype html><title>bare</title><p>bare</p>"
