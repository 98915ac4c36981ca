from zoo2tf.cli import main


def test_bench_lists_every_benchmark(capsys):
    assert main(["bench"]) == 0
    names = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert {"read_weights", "convert_speed", "nightly_run", "storage_queries"} <= names


def test_bench_refuses_an_unknown_name(capsys):
    assert main(["bench", "no_such_bench"]) == 2
    assert "unknown benchmark" in capsys.readouterr().err
