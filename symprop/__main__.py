from symprop.cli import program

if __name__ == "__main__":  # not when a worker process (Dask, multiprocessing) imports it
    program()
