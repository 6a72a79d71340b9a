from emulator.cli import app

app()
