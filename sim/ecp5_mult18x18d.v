// Simulation model of the Lattice ECP5 MULT18X18D, for the subset eyeriss_mult_pipe uses:
// an 18 x 18 multiply, signed or unsigned per operand, with optional input, pipeline and
// output registers, each on its own clock (CLK0..CLK3), clock enable (CE0..CE3) and
// synchronous reset (RST0..RST3) as its REG_*_CLK / _CE / _RST parameters choose. The C
// input, the shift chains (SOURCEA/B, SRIA/B, SROA/B), the ROA/ROB/ROC outputs and the clock
// dividers are not modelled (their outputs are 0). Ports and parameter names are those of
// Yosys's blackbox (share/yosys/ecp5/cells_bb.v), written from the ECP5 sysDSP usage guide
// (FPGA-TN-02205): a stage whose REG_*_CLK is "NONE" is combinational, an enabled one loads on
// the rising edge of its clock when its CE is high and clears when its RST is high.
//
// Not part of the generated design: tests/fpga.rs compiles it beside the generated Verilog
// with EYERISS_ECP5 defined, so that a layer runs through the DSP form of eyeriss_mult_pipe.
`default_nettype none

/* verilator lint_off DECLFILENAME */
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
module MULT18X18D (
    input  wire A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17,
    input  wire B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17,
    input  wire C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17,
    input  wire SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input  wire CLK0, CLK1, CLK2, CLK3,
    input  wire CE0, CE1, CE2, CE3,
    input  wire RST0, RST1, RST2, RST3,
    input  wire SRIA0, SRIA1, SRIA2, SRIA3, SRIA4, SRIA5, SRIA6, SRIA7, SRIA8, SRIA9, SRIA10, SRIA11, SRIA12, SRIA13, SRIA14, SRIA15, SRIA16, SRIA17,
    input  wire SRIB0, SRIB1, SRIB2, SRIB3, SRIB4, SRIB5, SRIB6, SRIB7, SRIB8, SRIB9, SRIB10, SRIB11, SRIB12, SRIB13, SRIB14, SRIB15, SRIB16, SRIB17,
    output wire SROA0, SROA1, SROA2, SROA3, SROA4, SROA5, SROA6, SROA7, SROA8, SROA9, SROA10, SROA11, SROA12, SROA13, SROA14, SROA15, SROA16, SROA17,
    output wire SROB0, SROB1, SROB2, SROB3, SROB4, SROB5, SROB6, SROB7, SROB8, SROB9, SROB10, SROB11, SROB12, SROB13, SROB14, SROB15, SROB16, SROB17,
    output wire ROA0, ROA1, ROA2, ROA3, ROA4, ROA5, ROA6, ROA7, ROA8, ROA9, ROA10, ROA11, ROA12, ROA13, ROA14, ROA15, ROA16, ROA17,
    output wire ROB0, ROB1, ROB2, ROB3, ROB4, ROB5, ROB6, ROB7, ROB8, ROB9, ROB10, ROB11, ROB12, ROB13, ROB14, ROB15, ROB16, ROB17,
    output wire ROC0, ROC1, ROC2, ROC3, ROC4, ROC5, ROC6, ROC7, ROC8, ROC9, ROC10, ROC11, ROC12, ROC13, ROC14, ROC15, ROC16, ROC17,
    output wire P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17, P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35,
    output wire SIGNEDP
);
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_INPUTC_CE = "CE0";
    parameter REG_INPUTC_RST = "RST0";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_PIPELINE_CE = "CE0";
    parameter REG_PIPELINE_RST = "RST0";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter HIGHSPEED_CLK = "NONE";
    parameter GSR = "ENABLED";
    parameter CAS_MATCH_REG = "FALSE";
    parameter SOURCEB_MODE = "B_SHIFT";
    parameter MULT_BYPASS = "DISABLED";
    parameter RESETMODE = "SYNC";

    wire [3:0] clks = {CLK3, CLK2, CLK1, CLK0};
    wire [3:0] ces = {CE3, CE2, CE1, CE0};
    wire [3:0] rsts = {RST3, RST2, RST1, RST0};

    // Operands carry their sign flag through the input stage, as the block does.
    wire [18:0] a_in = {SIGNEDA, {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0}};
    wire [18:0] b_in = {SIGNEDB, {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0}};
    wire [18:0] a_st, b_st;
    wire [35:0] p_pipe, p_st;

    eyeriss_dsp_stage #(.W(19), .CLK(REG_INPUTA_CLK), .CE(REG_INPUTA_CE), .RST(REG_INPUTA_RST))
        u_reg_a (.clks(clks), .ces(ces), .rsts(rsts), .d(a_in), .q(a_st));
    eyeriss_dsp_stage #(.W(19), .CLK(REG_INPUTB_CLK), .CE(REG_INPUTB_CE), .RST(REG_INPUTB_RST))
        u_reg_b (.clks(clks), .ces(ces), .rsts(rsts), .d(b_in), .q(b_st));

    // Each operand extended by its own sign flag; the 36-bit product of two 19-bit signed
    // values keeps every bit an 18 x 18 product of either signedness has.
    wire signed [18:0] a_x = {a_st[18] & a_st[17], a_st[17:0]};
    wire signed [18:0] b_x = {b_st[18] & b_st[17], b_st[17:0]};
    wire signed [37:0] prod = a_x * b_x;
    wire [35:0] product = prod[35:0];

    eyeriss_dsp_stage #(.W(36), .CLK(REG_PIPELINE_CLK), .CE(REG_PIPELINE_CE), .RST(REG_PIPELINE_RST))
        u_reg_pipe (.clks(clks), .ces(ces), .rsts(rsts), .d(product), .q(p_pipe));
    eyeriss_dsp_stage #(.W(36), .CLK(REG_OUTPUT_CLK), .CE(REG_OUTPUT_CE), .RST(REG_OUTPUT_RST))
        u_reg_out (.clks(clks), .ces(ces), .rsts(rsts), .d(p_pipe), .q(p_st));

    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p_st;
    assign SIGNEDP = a_st[18] | b_st[18];
    assign {SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0} = 18'd0;
    assign {SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0} = 18'd0;
    assign {ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0} = 18'd0;
    assign {ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0} = 18'd0;
    assign {ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0} = 18'd0;
endmodule

// One register stage of the model: combinational when CLK is "NONE", else a register on the
// chosen clock, enable and synchronous reset.
module eyeriss_dsp_stage #(
    parameter W = 18,
    parameter CLK = "NONE",
    parameter CE = "CE0",
    parameter RST = "RST0"
) (
    input  wire [3:0]   clks,
    input  wire [3:0]   ces,
    input  wire [3:0]   rsts,
    input  wire [W-1:0] d,
    output wire [W-1:0] q
);
    // "CLKn", "CEn", "RSTn": the last character is the index. (A string parameter is as
    // wide as its text; the function's input takes any of them, zero-extended.)
    /* verilator lint_off WIDTH */
    function integer sel;
        input [8*4-1:0] name;
        begin
            sel = {24'd0, name[7:0] - 8'h30};
        end
    endfunction
    /* verilator lint_on WIDTH */
    generate
        if (CLK == "NONE") begin : g_comb
            assign q = d;
        end else begin : g_reg
            /* verilator lint_off WIDTH */
            localparam C = sel(CLK);
            localparam E = sel(CE);
            localparam R = sel(RST);
            /* verilator lint_on WIDTH */
            reg [W-1:0] r;
            always @(posedge clks[C]) begin
                if (rsts[R]) r <= {W{1'b0}};
                else if (ces[E]) r <= d;
            end
            assign q = r;
        end
    endgenerate
endmodule
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on UNUSEDSIGNAL */
/* verilator lint_on DECLFILENAME */

`default_nettype wire
