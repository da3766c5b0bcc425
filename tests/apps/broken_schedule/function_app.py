"""Deliberately broken: a timer schedule with an hour out of range."""

import azure.functions as func

app = func.FunctionApp()


@app.timer_trigger(arg_name="timer", schedule="0 */5 25 * * *")
def tick(timer: func.TimerRequest) -> None:
    pass
