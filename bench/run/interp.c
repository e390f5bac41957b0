/*
 * interp - an interpreter loop: a stack-machine bytecode dispatched by a
 * switch (a jump table natively, br_table in wasm), running a program
 * whose loop makes n million turns of a hash-like update.  The checksum
 * is the program's result and the count of instructions executed.
 */
#include <stdint.h>

enum op { PUSH, LOAD, STORE, ADD, SUB, MUL, XOR, SHR, DUP, JNZ, JMP, HALT };

/* locals: 0 = counter, 1 = accumulator
 *	while (counter) {
 *		acc = acc * 33 ^ counter;
 *		acc += acc >> 7;
 *		counter -= 1;
 *	}
 *	return acc;
 */
static const int32_t program[] = {
	/*  0 */ LOAD, 0, JNZ, 6, JMP, 34,
	/*  6 */ LOAD, 1, PUSH, 33, MUL, LOAD, 0, XOR, STORE, 1,
	/* 16 */ LOAD, 1, DUP, PUSH, 7, SHR, ADD, STORE, 1,
	/* 25 */ LOAD, 0, PUSH, 1, SUB, STORE, 0, JMP, 0,
	/* 34 */ LOAD, 1, HALT,
};

uint64_t run(uint32_t n)
{
	uint32_t stack[16], local[2] = { n * 1000000u, 0 };
	uint32_t sp = 0, pc = 0;
	uint64_t executed = 0;

	for (;;) {
		executed++;
		switch (program[pc++]) {
		case PUSH:
			stack[sp++] = (uint32_t)program[pc++];
			break;
		case LOAD:
			stack[sp++] = local[program[pc++]];
			break;
		case STORE:
			local[program[pc++]] = stack[--sp];
			break;
		case ADD:
			sp--;
			stack[sp - 1] += stack[sp];
			break;
		case SUB:
			sp--;
			stack[sp - 1] -= stack[sp];
			break;
		case MUL:
			sp--;
			stack[sp - 1] *= stack[sp];
			break;
		case XOR:
			sp--;
			stack[sp - 1] ^= stack[sp];
			break;
		case SHR:
			sp--;
			stack[sp - 1] >>= stack[sp];
			break;
		case DUP:
			stack[sp] = stack[sp - 1];
			sp++;
			break;
		case JNZ:
			if (stack[--sp])
				pc = (uint32_t)program[pc];
			else
				pc++;
			break;
		case JMP:
			pc = (uint32_t)program[pc];
			break;
		default:
			return (uint64_t)stack[sp - 1] << 32 ^ executed;
		}
	}
}
