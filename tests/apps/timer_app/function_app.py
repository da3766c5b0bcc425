"""Timer fixture app: an every-second schedule and a run-on-startup timer."""

import json

import azure.functions as func

app = func.FunctionApp()
STORAGE = "AzureWebJobsStorage"


@app.timer_trigger(arg_name="timer", schedule="%EVERY_SECOND%")
@app.queue_output(arg_name="out", queue_name="%TIMER_QUEUE%", connection=STORAGE)
def every_second(timer: func.TimerRequest, out: func.Out[str]) -> None:
    out.set(json.dumps({"past_due": timer.past_due}))


@app.timer_trigger(arg_name="timer", schedule="0 0 0 1 JAN *", run_on_startup=True)
@app.queue_output(arg_name="out", queue_name="%STARTUP_QUEUE%", connection=STORAGE)
async def on_startup(timer: func.TimerRequest, out: func.Out[str]) -> None:
    out.set("started")
