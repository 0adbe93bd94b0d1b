"""Privacy: consent honoured at reading time, erasure on request, and the proof of it.

How an erasure flows (`stedi forget`, erase.py):
1. the person's identifiers are found and their keyed pseudonyms written to the erasure register
   (register.py), a file outside the stack that survives `make down`: from then on the intake of
   every run drops their records at the door (suppression.py);
2. the landing objects are rewritten without their records;
3. every Iceberg table loses their rows, one commit per table through the gate flow;
4. every older snapshot, branch and tag is expired and the files only those used are deleted;
5. the register marks the erasure done and `stedi.erasures` is republished from it;
6. the proof (proof.py) scans every table at every retained snapshot and every object's bytes.
"""
