// design.v - the Verilog design of tests/real_apps.sh, for Yosys: an 8-bit
// counter with enable and synchronous reset, an 8-bit adder with carry, and
// a Moore machine that raises `found` after the input sequence 1011, joined
// in `top`.
module counter (input clk, input rst, input en, output reg [7:0] q);
	always @(posedge clk)
		if (rst)
			q <= 8'd0;
		else if (en)
			q <= q + 8'd1;
endmodule

module adder (input [7:0] a, input [7:0] b, input ci, output [7:0] s, output co);
	assign {co, s} = a + b + ci;
endmodule

module detect (input clk, input rst, input x, output found);
	localparam IDLE = 3'd0, S1 = 3'd1, S10 = 3'd2, S101 = 3'd3, S1011 = 3'd4;
	reg [2:0] state;

	always @(posedge clk)
		if (rst)
			state <= IDLE;
		else case (state)
			IDLE:	state <= x ? S1 : IDLE;
			S1:	state <= x ? S1 : S10;
			S10:	state <= x ? S101 : IDLE;
			S101:	state <= x ? S1011 : S10;
			S1011:	state <= x ? S1 : S10;
			default: state <= IDLE;
		endcase
	assign found = state == S1011;
endmodule

module top (input clk, input rst, input en, input x, input [7:0] b,
	    output [7:0] sum, output co, output found);
	wire [7:0] q;

	counter c (.clk(clk), .rst(rst), .en(en), .q(q));
	adder a (.a(q), .b(b), .ci(x), .s(sum), .co(co));
	detect d (.clk(clk), .rst(rst), .x(x), .found(found));
endmodule
