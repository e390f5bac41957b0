// bad.v - a Verilog syntax error for tests/real_apps.sh: a missing
// semicolon after the assignment on line 5.
module broken (input a, input b, output y);
	wire t;
	assign t = a & b
	assign y = ~t;
endmodule
