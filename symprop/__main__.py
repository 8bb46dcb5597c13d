from symprop.cli import program

program()
